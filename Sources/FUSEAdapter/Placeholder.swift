public enum FUSEAdapterModule {}
