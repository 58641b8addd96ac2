# Production image: web, worker and beat run from the same image (see compose.yaml and
# docs/deployment.md). ffmpeg and espeak-ng come from the pip wheels: no system packages.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/data STATIC_ROOT=/app/staticfiles PORT=8000
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
# Static files are part of the image (hashed, compressed by whitenoise), not of the volume.
RUN SECRET_KEY=build VAR_DIR=/tmp/build python manage.py collectstatic --noinput -v0 && rm -rf /tmp/build \
 && useradd --system --uid 10001 --home-dir /data flac && mkdir -p /data && chown flac /data
USER flac
VOLUME /data
EXPOSE 8000
CMD ["sh", "-c", "exec gunicorn config.wsgi -c config/gunicorn.conf.py --bind 0.0.0.0:${PORT} --access-logfile -"]
