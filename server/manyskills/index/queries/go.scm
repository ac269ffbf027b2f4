; Function index query for Go. Capture conventions: see manyskills/index/functions.py.

(function_declaration
  name: (identifier) @name
  body: (block) @body) @definition.function

; Methods are qualified by their receiver's type: `func (s *Server) Run()` -> Server.Run.
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [(type_identifier) @qualifier
             (pointer_type (type_identifier) @qualifier)
             (generic_type type: (type_identifier) @qualifier)
             (pointer_type (generic_type type: (type_identifier) @qualifier))]))
  name: (field_identifier) @name
  body: (block) @body) @definition.method

; Function literals bound to a name: `handler := func(...) {...}`, `var cb = func() {}`, `cb = func() {}`.
(short_var_declaration
  left: (expression_list . (identifier) @name .)
  right: (expression_list . (func_literal body: (block) @body) @definition.lambda .)) @span

(var_spec
  name: (identifier) @name
  value: (expression_list . (func_literal body: (block) @body) @definition.lambda .)) @span

(assignment_statement
  left: (expression_list . [(identifier) (selector_expression field: (field_identifier))] @name .)
  right: (expression_list . (func_literal body: (block) @body) @definition.lambda .)) @span

; `func TestXxx(t *testing.T)`, as `go test` finds them.
(function_declaration
  name: (identifier) @_name
  parameters: (parameter_list
    .
    (parameter_declaration
      type: (pointer_type
        (qualified_type
          package: (package_identifier) @_package
          name: (type_identifier) @_type)))
    .)
  (#match? @_name "^Test([^a-z]|$)")
  (#eq? @_package "testing")
  (#eq? @_type "T")) @test
