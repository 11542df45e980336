def drop_trailing_slash_twins(endpoints):
    """Each spec path is also served with a trailing slash; document it once, as the spec writes it."""
    paths = {path for path, *_ in endpoints}
    return [e for e in endpoints if not (e[0].endswith("/") and e[0].rstrip("/") in paths)]
