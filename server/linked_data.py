"""Blueprint placeholder: filled in by the linked_data work."""

from flask import Blueprint

bp = Blueprint("linked_data", __name__)
