"""The language server: one module per LSP area, state held by `ManySkillsServer`."""
