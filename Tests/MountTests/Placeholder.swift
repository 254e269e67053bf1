// tests come with the mount
