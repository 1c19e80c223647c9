"""The use-case layer: one module per thing a person can do.

Each use case is one entry function over a ``Context`` (engine, state store,
settings, policy) and a ``Port`` (say this in this thread, privately to this
person, update that message). Slash commands, buttons, the CLI and the demo
call the same entry function, so a rule is written once; only this layer
imports both ``core`` and the rendering of messages.
"""
