DROP TABLE django_imports;
