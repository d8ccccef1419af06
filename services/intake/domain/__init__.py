"""Pure domain rules of the intake service: no Flask, kombu, pymongo or other I/O."""
