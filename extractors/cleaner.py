"""stub"""
def clean_text(text, *, title=None, language=None):
    return text
