"""`python -m scripts` runs the admin CLI."""

from scripts.cli import app

if __name__ == "__main__":
    app(prog_name="python -m scripts")
