"""Reading the files that schools and staff send: CSV in any local flavour, XLSX, XLS, ODS."""
