; Function index query for Rust. Capture conventions: see manyskills/index/functions.py.

; fns with a body; inside `impl`/`trait` blocks they become methods (trait signatures are skipped).
(function_item
  name: (identifier) @name
  body: (block) @body) @definition.function

; Closures bound to a name: `let add = |a, b| a + b;`
(let_declaration
  pattern: (identifier) @name
  value: (closure_expression body: (_) @body) @definition.lambda) @span

; `impl Foo<T>` and `impl Trait for Foo` both qualify methods with Foo.
(impl_item type: (_) @scope.name) @scope.class
(trait_item name: (_) @scope.name) @scope.class
(mod_item name: (_) @scope.name) @scope.namespace

; `#[test]`, `#[tokio::test]`, `#[async_std::test]`, possibly followed by other attributes or doc comments.
((attribute_item
   (attribute [(identifier) (scoped_identifier)] @_attribute))
 .
 [(attribute_item) (line_comment) (block_comment)]*
 .
 (function_item) @test
 (#match? @_attribute "^([a-z_]+::)?test$"))
