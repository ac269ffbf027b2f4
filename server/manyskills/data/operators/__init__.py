"""The mutation operators, one module per family. Each operator is a function of a
`manyskills.data.syntax.FunctionSyntax` yielding candidate `base.Edit`s; the registry that names
them, and the validation and balancing of what they yield, are in `manyskills.data.mutations`."""
