public enum MirrorFilesystemModule {}
