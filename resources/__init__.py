"""The app's static assets (see README.md here). Code reads them through importlib.resources,
`importlib.resources.files("resources") / "icon"`, never by a path relative to the checkout, so a checkout,
a `pip install` and the PyInstaller build all find them."""
