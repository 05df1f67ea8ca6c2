"""Turn a folder of .txt and .pdf files into cleaned documents and citable passages."""
