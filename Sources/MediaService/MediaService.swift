/// Namespace of the `MediaService` module (being built; see the protocol-layer issue).
public enum MediaServiceModule {}
