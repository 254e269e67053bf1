/// Namespace of the `MediaManagerClient` module (being built; see the protocol-layer issue).
public enum MediaManagerClientModule {}
