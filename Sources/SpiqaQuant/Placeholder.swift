// Placeholder: replaced by the SpiqaQuant implementation.
