"""The mock LLM: what answers a provider request when no real upstream is configured.

- ``engine``: decides *what* to answer (text, tool calls, structured JSON, embedding
  vectors, injected faults), on the schema-neutral forms of ``neutral``;
- ``schemas``: one module per wire schema (parse a body, render an answer, a stream, an
  error; read usage), found by provider and path through ``schemas.registry``;
- ``responder``: the mock upstream itself (faults, then schema -> engine -> schema);
- ``faults``, ``json_values``, ``text``: fault directives, values from a JSON Schema, and
  the stand-in tokenizer.
"""
