; Function index query for TypeScript. Capture conventions: see manyskills/index/functions.py.
; inherits: _ecmascript

; Class fields: `handler = () => ...`, `static make = function () {}`
(public_field_definition
  name: (property_identifier) @name
  value: [(arrow_function body: (_) @body) @definition.lambda
          (function body: (_) @body) @definition.function
          (generator_function body: (_) @body) @definition.function]) @span

(abstract_class_declaration name: (_) @scope.name) @scope.class

; `namespace Foo { ... }`
(internal_module name: (_) @scope.name) @scope.namespace
