"""Where a job runs. Each provider has run(job); services pick one by the job's engine."""

from converter.models import Team


def provider_for(engine: str):
    if engine == Team.Engine.LOCAL:
        from converter.providers.local import LocalProvider

        return LocalProvider()
    if engine == Team.Engine.API2CONVERT:
        from converter.providers.api2convert.provider import Api2convertProvider

        return Api2convertProvider()
    raise ValueError(f"No provider for engine {engine!r}")
