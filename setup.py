from setuptools import find_packages, setup

requires = [
    "pyramid>=2.0",
    "cornice>=6.0",
    "colander>=2.0",
    "SQLAlchemy>=2.0",
    "zope.sqlalchemy>=3.0",
    "pyramid_tm>=2.5",
    "pyramid_retry>=2.1",
    "transaction",
    "alembic>=1.12",
    "waitress>=3.0",
    "plaster_pastedeploy",
    "argon2-cffi>=23.1",
    "pycountry>=23.0",
    "python-slugify>=8.0",
    "redis>=5.0",
    "python-magic>=0.4.27",  # MIME types sniffed from the bytes by libmagic (needs the system's libmagic1)
    "boto3>=1.34",  # the S3-compatible storage backend
    "Jinja2>=3.1",  # the browsable API's pages, autoescaped (hyperapi/templates)
]

postgresql_requires = ["psycopg[binary]>=3.1"]

tests_require = [
    "pytest>=8",
    "pytest-xdist>=3.5",  # the tests run on every core (setup.cfg), each worker with a database of its own
    "WebTest>=3.0",
    "hypothesis>=6.100",
    "ruff",
    "moto[server]>=5.0",  # a local S3 for the storage backend's tests
    "openapi-spec-validator>=0.7",  # checks /api/v1/openapi.json against the OpenAPI 3.1 schema
    "schemathesis>=4.3,<5",  # drives the app from its own OpenAPI document (tests/functional/test_schemathesis.py)
    "jsonschema>=4.20",  # checks answers against the document's schemas (tests/functional/test_discovery.py)
    "playwright>=1.40",  # drives the system's Chromium in tests/functional/test_browser.py (never downloads a browser)
] + postgresql_requires

setup(
    name="hyperapi",
    version="0.1.0",
    description="A hypermedia REST API for land and project records",
    packages=find_packages(exclude=["tests", "tests.*", "bench"]),
    include_package_data=True,
    package_data={"hyperapi.browsable": ["templates/*.jinja2", "static/*"]},
    zip_safe=False,
    python_requires=">=3.11",
    install_requires=requires,
    extras_require={"testing": tests_require, "postgresql": postgresql_requires},
    entry_points={
        "paste.app_factory": ["main = hyperapi:main"],
        "console_scripts": ["hyperapi = hyperapi.cli:main"],
    },
)
