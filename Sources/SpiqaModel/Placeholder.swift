// Placeholder: replaced by the SpiqaModel implementation.
