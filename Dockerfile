# Production image: web and worker run from the same image (see compose.yaml).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/data
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt psycopg[binary] redis django-storages[s3]
COPY . .
RUN SECRET_KEY=build python manage.py collectstatic --noinput -v0
VOLUME /data
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--workers", "2", "--threads", "8", "--timeout", "120", "--access-logfile", "-"]
