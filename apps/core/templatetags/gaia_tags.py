from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict, key: str):  # noqa: ANN201
    """``{{ row|get_item:name }}``: a dict value by a variable key."""
    return mapping.get(key, "")
