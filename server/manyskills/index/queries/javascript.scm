; Function index query for JavaScript. Capture conventions: see manyskills/index/functions.py.
; inherits: _ecmascript

; Class fields: `handler = () => ...`, `static make = function () {}`
(field_definition
  property: (property_identifier) @name
  value: [(arrow_function body: (_) @body) @definition.lambda
          (function body: (_) @body) @definition.function
          (generator_function body: (_) @body) @definition.function]) @span
