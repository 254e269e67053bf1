/// Namespace of the `TusServer` module (being built; see the protocol-layer issue).
public enum TusServerModule {}
