/// Namespace of the `TusClient` module (being built; see the protocol-layer issue).
public enum TusClientModule {}
