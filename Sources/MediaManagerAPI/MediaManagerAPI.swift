/// Namespace of the `MediaManagerAPI` module (being built; see the protocol-layer issue).
public enum MediaManagerAPIModule {}
