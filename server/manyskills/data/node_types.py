"""Tree-sitter node types, per language or family, that the function syntax library
(`manyskills.data.syntax`), the mutation operators (`manyskills.data.operators`), the clone rewrites
and the search pairs look for.

Everything here is data. Tables keyed by language fall back to a default named next to them; tables
keyed by family use `manyskills.index.languages.family` ("ecma" for JavaScript/TypeScript/TSX, "c"
for C/C++).
"""

from __future__ import annotations

from manyskills.index.languages import LANGUAGE_NAMES, family

ECMA = frozenset(language for language in LANGUAGE_NAMES if family(language) == "ecma")
C_LIKE = ECMA | {"java", "c", "cpp"}  # `;`, `++`, `?:`, `switch`

# Anything function-like, lambdas and closures included (the function being mutated or rewritten
# is the first of these in its fragment; they also bound scopes).
FUNCTION_TYPES = frozenset({
    "function_definition", "function_declaration", "function_expression", "function",
    "method_definition", "arrow_function", "generator_function_declaration", "generator_function",
    "method_declaration", "constructor_declaration", "compact_constructor_declaration",
    "function_item", "func_literal", "lambda_expression", "closure_expression", "lambda",
})
BINARY_TYPE = {"python": "binary_operator"}  # default "binary_expression"
INT_TYPES = frozenset({"integer", "number", "decimal_integer_literal", "number_literal", "int_literal",
                       "integer_literal"})
FLOAT_TYPES = frozenset({"float", "decimal_floating_point_literal", "float_literal"})
STRING_TYPES = frozenset({"string", "template_string", "string_literal", "interpreted_string_literal",
                          "raw_string_literal", "concatenated_string", "char_literal",
                          "character_literal", "rune_literal", "raw_string"})
BOOL_TYPES = frozenset({"true", "false", "boolean_literal"})
NULL_TYPES = frozenset({"none", "null", "null_literal", "nil", "undefined"})
COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
PAREN_TYPES = frozenset({"parenthesized_expression", "condition", "condition_clause"})
INDEX_PARENTS = frozenset({"subscript", "slice", "subscript_expression", "array_access", "index_expression",
                           "slice_expression", "subscript_argument_list"})
IF_TYPES = {"python": ("if_statement", "elif_clause"), "rust": ("if_expression",)}  # default if_statement
WHILE_TYPES = {"python": ("while_statement",), "rust": ("while_expression",), "go": ()}
LOOP_TYPES = {
    "python": ("for_statement", "while_statement"),
    "go": ("for_statement",),
    "rust": ("for_expression", "while_expression", "loop_expression"),
    "java": ("for_statement", "enhanced_for_statement", "while_statement", "do_statement"),
    "cpp": ("for_statement", "for_range_loop", "while_statement", "do_statement"),
}  # default: C-like
DEFAULT_LOOP_TYPES = ("for_statement", "for_in_statement", "while_statement", "do_statement")
CALL_TYPES = {"python": ("call",), "java": ("method_invocation", "object_creation_expression"),
              "javascript": ("call_expression", "new_expression"), "typescript": ("call_expression", "new_expression"),
              "tsx": ("call_expression", "new_expression")}  # default call_expression
RETURN_TYPE = {"rust": "return_expression"}  # default return_statement
BREAK_TYPE = {"rust": "break_expression"}  # default break_statement
JUMP_TYPES = frozenset({"return_statement", "return_expression", "raise_statement", "throw_statement",
                        "continue_statement", "continue_expression", "break_statement", "break_expression"})
BLOCK_TYPES = frozenset({"block", "statement_block", "compound_statement", "switch_body", "switch_block",
                         "declaration_list", "module"})
AUG_ASSIGN_TYPE = {"python": "augmented_assignment", "rust": "compound_assignment_expr", "go": "assignment_statement",
                   "javascript": "augmented_assignment_expression", "typescript": "augmented_assignment_expression",
                   "tsx": "augmented_assignment_expression"}  # default assignment_expression
UPDATE_TYPES = frozenset({"update_expression", "inc_statement", "dec_statement"})
TERNARY_TYPE = {"python": "conditional_expression", "c": "conditional_expression", "cpp": "conditional_expression",
                "java": "ternary_expression", "javascript": "ternary_expression", "typescript": "ternary_expression",
                "tsx": "ternary_expression"}
ATTRIBUTE_FIELDS = {  # node type -> (object field, name field)
    "python": {"attribute": ("object", "attribute")},
    "java": {"field_access": ("object", "field"), "method_invocation": ("object", "name")},
    "c": {"field_expression": ("argument", "field")},
    "cpp": {"field_expression": ("argument", "field")},
    "go": {"selector_expression": ("operand", "field")},
    "rust": {"field_expression": ("value", "field")},
}
ECMA_ATTRIBUTE_FIELDS = {"member_expression": ("object", "property")}
# Identifiers that are bound (declared) by their position: binder node type -> field holding the
# binding (None: any child), and pattern node types the binding may sit inside.
BINDERS = {
    "python": {"parameters": None, "lambda_parameters": None, "default_parameter": "name",
               "typed_default_parameter": "name", "typed_parameter": None, "assignment": "left",
               "augmented_assignment": "left", "for_statement": "left", "for_in_clause": "left",
               "named_expression": "name", "as_pattern_target": None},
    "ecma": {"formal_parameters": None, "required_parameter": "pattern", "optional_parameter": "pattern",
             "variable_declarator": "name", "for_in_statement": "left", "catch_clause": "parameter",
             "arrow_function": "parameter"},
    "java": {"formal_parameter": "name", "catch_formal_parameter": "name", "variable_declarator": "name",
             "enhanced_for_statement": "name", "inferred_parameters": None, "lambda_expression": "parameters",
             "resource": "name"},
    "c": {"parameter_declaration": "declarator", "optional_parameter_declaration": "declarator",
          "init_declarator": "declarator", "declaration": "declarator", "for_range_loop": "declarator"},
    "go": {"parameter_declaration": "name", "variadic_parameter_declaration": "name", "var_spec": "name",
           "const_spec": "name", "short_var_declaration": "left", "range_clause": "left"},
    "rust": {"parameter": "pattern", "let_declaration": "pattern", "for_expression": "pattern",
             "closure_parameters": None, "let_condition": "pattern"},
}
BINDING_PATTERNS = {
    "python": frozenset({"pattern_list", "tuple_pattern", "list_pattern", "list_splat_pattern",
                         "dictionary_splat_pattern", "parenthesized_expression"}),
    "ecma": frozenset({"array_pattern", "rest_pattern", "assignment_pattern"}),
    "java": frozenset(),
    "c": frozenset({"pointer_declarator", "array_declarator", "reference_declarator", "parenthesized_declarator"}),
    "go": frozenset({"expression_list"}),
    "rust": frozenset({"tuple_pattern", "mut_pattern", "ref_pattern", "reference_pattern", "slice_pattern",
                       "tuple_struct_pattern", "captured_pattern"}),
}
# (parent type, field) pairs where an identifier is a name of something else, not a variable.
NOT_VARIABLE_FIELDS = {
    "python": {("attribute", "attribute"), ("keyword_argument", "name"), ("function_definition", "name"),
               ("class_definition", "name")},
    "ecma": {("function_declaration", "name"), ("function_expression", "name"), ("function", "name"),
             ("class_declaration", "name"), ("generator_function_declaration", "name")},
    "java": {("method_invocation", "name"), ("field_access", "field"), ("method_declaration", "name"),
             ("class_declaration", "name"), ("constructor_declaration", "name")},
    "c": {("function_declarator", "declarator")},
    "go": {("function_declaration", "name")},
    "rust": {("function_item", "name"), ("macro_invocation", "macro"), ("tuple_struct_pattern", "type")},
}
NOT_VARIABLE_PARENTS = {
    "python": frozenset({"dotted_name", "aliased_import", "import_statement", "import_from_statement",
                         "global_statement", "nonlocal_statement", "decorator"}),
    "ecma": frozenset({"import_specifier", "export_specifier", "namespace_import", "labeled_statement"}),
    "java": frozenset({"scoped_identifier", "package_declaration", "import_declaration", "annotation",
                       "marker_annotation"}),
    "c": frozenset({"qualified_identifier", "preproc_def", "preproc_function_def", "template_function"}),
    "go": frozenset({"package_clause", "import_spec", "labeled_statement"}),
    "rust": frozenset({"scoped_identifier", "shorthand_field_initializer", "use_declaration", "scoped_use_list",
                       "use_as_clause", "generic_function"}),
}
# Nodes that open a scope for the names bound inside them.
SCOPE_TYPES = {
    "python": frozenset({"function_definition", "lambda", "list_comprehension", "set_comprehension",
                         "dictionary_comprehension", "generator_expression", "class_definition"}),
    "brace": frozenset({"block", "statement_block", "compound_statement", "for_statement", "for_in_statement",
                        "enhanced_for_statement", "for_range_loop", "for_expression", "catch_clause",
                        "closure_expression", "lambda_expression", "arrow_function", "if_statement",
                        "switch_block_statement_group", "case_statement", "expression_case",
                        "type_switch_statement", "match_arm", "if_expression", "while_expression"}),
}
SELF_NAMES = frozenset({"self", "cls", "this", "_"})
KEYWORDS = frozenset(
    "and as assert async await break case catch class const continue def default del do elif else enum "  # noqa: SIM905
    "except export extends false final finally fn for from func function go goto if impl import in "
    "instanceof interface is lambda let loop match mod move mut new nil none None not null or package "
    "pass pub raise ref return self Self static struct super switch this throw trait true True False try "
    "type typeof undefined unsafe use var void where while with yield int float char long short double "
    "bool boolean string str byte auto signed unsigned sizeof range chan map select defer fallthrough "
    "dyn crate extern union volatile register inline template typename namespace operator private "
    "protected public virtual override delete friend mutable explicit noexcept nullptr constexpr "
    "print len list dict set tuple object type id input open iter next max min sum abs all any".split()
)

# Per language, the named functions a doc comment or docstring documents (search pairs take the
# outermost one in a fragment as the function; lambdas and closures are not among them).
_ECMA_NAMED_FUNCTION_TYPES = frozenset({"function_declaration", "function", "function_expression",
                                        "generator_function_declaration", "method_definition", "arrow_function",
                                        "generator_function"})
NAMED_FUNCTION_TYPES: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition"}),
    "javascript": _ECMA_NAMED_FUNCTION_TYPES,
    "typescript": _ECMA_NAMED_FUNCTION_TYPES | {"function_signature"},
    "tsx": _ECMA_NAMED_FUNCTION_TYPES | {"function_signature"},
    "java": frozenset({"method_declaration", "constructor_declaration"}),
    "go": frozenset({"function_declaration", "method_declaration", "func_literal"}),
    "rust": frozenset({"function_item"}),
    "c": frozenset({"function_definition"}),
    "cpp": frozenset({"function_definition"}),
}
