# The metrics simulator image: the agentmon package, running `agentmon simulate`.
# Built by compose from the repository root (context: ..).
FROM python:3.11-slim
WORKDIR /src
COPY pyproject.toml README.md ./
COPY packages ./packages
RUN pip install --no-cache-dir . && useradd --uid 10001 --no-create-home simulator
USER 10001
EXPOSE 8000
ENTRYPOINT ["agentmon", "simulate"]
CMD ["--host", "0.0.0.0", "--port", "8000", "--seed", "42", "--tenants", "acme,globex"]
