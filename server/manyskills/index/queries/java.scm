; Function index query for Java. Capture conventions: see manyskills/index/functions.py.

; Methods with a body (abstract and interface methods without one are not functions to analyse).
(method_declaration
  name: (identifier) @name
  body: (block) @body) @definition.method

(constructor_declaration
  name: (identifier) @name
  body: (constructor_body) @body) @definition.constructor

; Records: `record R(int a) { R { ... } }`
(compact_constructor_declaration
  name: (identifier) @name
  body: (block) @body) @definition.constructor

; Lambdas bound to a local variable or a field: `Runnable task = () -> {...};`
(local_variable_declaration
  declarator: (variable_declarator
    name: (identifier) @name
    value: (lambda_expression body: (_) @body) @definition.lambda)) @span

(field_declaration
  declarator: (variable_declarator
    name: (identifier) @name
    value: (lambda_expression body: (_) @body) @definition.lambda)) @span

[(class_declaration name: (identifier) @scope.name)
 (interface_declaration name: (identifier) @scope.name)
 (enum_declaration name: (identifier) @scope.name)
 (record_declaration name: (identifier) @scope.name)
 (annotation_type_declaration name: (identifier) @scope.name)] @scope.class

; JUnit 4/5 and TestNG tests (annotation may be qualified: `@org.junit.Test`).
(method_declaration
  (modifiers
    [(marker_annotation name: (_) @_annotation)
     (annotation name: (_) @_annotation)])
  (#match? @_annotation "(^|[.])(Test|ParameterizedTest|RepeatedTest|TestFactory|TestTemplate)$")) @test
