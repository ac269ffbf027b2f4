; Shared by javascript.scm and typescript.scm (only node types both grammars have).
; Capture conventions: see manyskills/index/functions.py.

(function_declaration
  name: (identifier) @name
  body: (_) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  body: (_) @body) @definition.function

; Class and object-literal methods, getters, setters; `constructor` becomes a constructor.
(method_definition
  name: (_) @name
  body: (_) @body) @definition.method

; `const f = () => ...`, `let g = function () {}`
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function body: (_) @body) @definition.lambda
          (function body: (_) @body) @definition.function
          (generator_function body: (_) @body) @definition.function]) @span

; `f = () => ...`, `module.exports.f = function () {}`, `Foo.prototype.f = function () {}`
(assignment_expression
  left: [(identifier) @name
         (member_expression property: (property_identifier) @name)]
  right: [(arrow_function body: (_) @body) @definition.lambda
          (function body: (_) @body) @definition.function
          (generator_function body: (_) @body) @definition.function]) @span

; Object literal properties: `{ f: () => ..., "g": function () {} }`
(pair
  key: [(property_identifier) (string) (number)] @name
  value: [(arrow_function body: (_) @body) @definition.lambda
          (function body: (_) @body) @definition.function
          (generator_function body: (_) @body) @definition.function]) @span

; Test callbacks: `it("name", () => {...})`, `test("name", function () {...})`, `it.only(...)`.
; The function is named by the test's string; its span is the whole `it(...)` call.
(call_expression
  function: (identifier) @_runner
  arguments: (arguments
    .
    [(string) (template_string)] @name
    .
    [(arrow_function body: (_) @body) (function body: (_) @body)] @definition.function @test)
  (#match? @_runner "^(it|test|xit|fit|xtest)$")) @span

(call_expression
  function: (member_expression
    object: (identifier) @_runner
    property: (property_identifier) @_modifier)
  arguments: (arguments
    .
    [(string) (template_string)] @name
    .
    [(arrow_function body: (_) @body) (function body: (_) @body)] @definition.function @test)
  (#match? @_runner "^(it|test)$")
  (#match? @_modifier "^(only|skip|todo|concurrent|failing)$")) @span

; Scopes that qualify names. `describe` blocks are containers, not functions.
(class_declaration name: (_) @scope.name) @scope.class

(variable_declarator
  name: (identifier) @scope.name
  value: [(class) (object)]) @scope.class

(pair
  key: [(property_identifier) (string)] @scope.name
  value: (object)) @scope.class

(call_expression
  function: [(identifier) @_runner
             (member_expression object: (identifier) @_runner)]
  arguments: (arguments . [(string) (template_string)] @scope.name)
  (#match? @_runner "^(describe|context|suite|fdescribe|xdescribe)$")) @scope.suite
