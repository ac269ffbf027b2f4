; Function index query for TSX: the TypeScript query (the tsx grammar is a superset).
; inherits: typescript
