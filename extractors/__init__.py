"""Extractors: pure bytes/str → model functions, plus the network layer (the only HTTP code).

Submodules are imported explicitly (``from extractors.http import Fetcher``) so importing this
package stays cheap and pulls in no heavy dependency.
"""
