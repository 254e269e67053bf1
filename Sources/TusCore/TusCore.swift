/// Namespace of the `TusCore` module (being built; see the protocol-layer issue).
public enum TusCoreModule {}
