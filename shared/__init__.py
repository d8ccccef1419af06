"""The project's shared package: configuration, MongoDB and RabbitMQ access, web and worker plumbing."""
