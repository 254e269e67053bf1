// tests come with the filesystem
