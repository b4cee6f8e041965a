// Placeholder: replaced by the SpiqaTasks implementation.
