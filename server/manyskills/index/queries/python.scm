; Function index query for Python. Capture conventions: see manyskills/index/functions.py.

; def / async def, at any depth. Directly inside a class they become methods; `__init__` a constructor.
(function_definition
  name: (identifier) @name
  body: (block) @body) @definition.function

; Lambdas bound to a name: `handler = lambda e: ...`, `self.callback = lambda: ...`.
(assignment
  left: [(identifier) @name
         (attribute attribute: (identifier) @name)]
  right: (lambda body: (_) @body) @definition.lambda) @span

(class_definition name: (identifier) @scope.name) @scope.class

; Tests, as pytest/unittest collect them: module-level `test*` functions ...
(module
  [(function_definition name: (identifier) @_name) @test
   (decorated_definition definition: (function_definition name: (identifier) @_name) @test)]
  (#match? @_name "^test"))

; ... and `test*` methods of `Test*` classes ...
(class_definition
  name: (identifier) @_class
  body: (block
    [(function_definition name: (identifier) @_name) @test
     (decorated_definition definition: (function_definition name: (identifier) @_name) @test)])
  (#match? @_class "^Test")
  (#match? @_name "^test"))

; ... and of unittest.TestCase subclasses (any base class whose name ends in "TestCase").
(class_definition
  superclasses: (argument_list (_) @_base)
  body: (block
    [(function_definition name: (identifier) @_name) @test
     (decorated_definition definition: (function_definition name: (identifier) @_name) @test)])
  (#match? @_base "TestCase$")
  (#match? @_name "^test"))
