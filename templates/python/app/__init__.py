"""A Cumulocity IoT microservice on the Python standard library."""
