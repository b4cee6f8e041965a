// Placeholder: replaced by the SpiqaCLI implementation.
