def document_spec_paths(endpoints):
    """Document each path as the spec writes it, without a trailing slash, and once.

    Every API path also answers with a trailing slash (spec_path adds a twin, SpecRouter an
    optional slash); the schema shows the spec's spelling only.
    """
    documented = {}
    for path, *rest in endpoints:
        spelling = path.rstrip("/") or "/"
        documented.setdefault((spelling, rest[1]), (spelling, *rest))
    return list(documented.values())
