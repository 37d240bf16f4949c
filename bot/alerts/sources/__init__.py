"""Pure parsers: one module per alert source, each turning a webhook body into an AlertBatch."""
