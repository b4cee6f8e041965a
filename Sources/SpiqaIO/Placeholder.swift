// Placeholder: replaced by the SpiqaIO implementation.
