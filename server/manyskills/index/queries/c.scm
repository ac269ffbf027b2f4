; Function index query for C (also inherited by cpp.scm: use node types both grammars have).
; Capture conventions: see manyskills/index/functions.py.

; Function definitions; the name sits inside the declarator, under up to two pointer levels
; (`char **names(void)`). Prototypes without a body are not indexed.
(function_definition
  declarator: [(function_declarator declarator: (_) @name)
               (pointer_declarator
                 declarator: (function_declarator declarator: (_) @name))
               (pointer_declarator
                 declarator: (pointer_declarator
                   declarator: (function_declarator declarator: (_) @name)))]
  body: (compound_statement) @body) @definition.function
