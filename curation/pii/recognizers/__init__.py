"""The product's own recognizers: names, street addresses, secrets, context phones, custom.

Each is a presidio `LocalRecognizer` registered by `curation.pii.engine.build_analyzer`.
"""
