"""Stand-ins for the services Docent calls over HTTP, served for real on 127.0.0.1."""
