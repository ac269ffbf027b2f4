; Function index query for C++. Capture conventions: see manyskills/index/functions.py.
; The C patterns cover free functions, methods defined in a class body (they become methods) and
; out-of-class definitions `void Foo::bar()` (the `Foo::` qualifier makes them methods of Foo).
; inherits: c

; Functions returning a reference: `Foo& Foo::operator=(const Foo&)`
(function_definition
  declarator: (reference_declarator
    (function_declarator declarator: (_) @name))
  body: (compound_statement) @body) @definition.function

; Lambdas bound to a name: `auto add = [](int a, int b) { return a + b; };`
(declaration
  declarator: (init_declarator
    declarator: (identifier) @name
    value: (lambda_expression body: (compound_statement) @body) @definition.lambda)) @span

[(class_specifier name: (_) @scope.name)
 (struct_specifier name: (_) @scope.name)
 (union_specifier name: (_) @scope.name)] @scope.class

(namespace_definition name: (_) @scope.name) @scope.namespace

; GoogleTest: `TEST(Suite, Name) { ... }` is the test Suite.Name (not a function called TEST).
(function_definition
  declarator: (function_declarator
    declarator: (identifier) @_macro
    parameters: (parameter_list
      .
      (parameter_declaration type: (_) @qualifier)
      .
      (parameter_declaration type: (_) @name)
      .))
  body: (compound_statement) @body
  (#match? @_macro "^(TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)$")) @definition.function @test
