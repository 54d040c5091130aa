"""Test worlds written in the layouts the tools export (not shaped for the project's readers)."""
