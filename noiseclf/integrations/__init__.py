"""noiseclf where its users already work.

* :mod:`noiseclf.integrations.scrapy` — a Scrapy item pipeline
  (``pip install 'noiseclf[scrapy]'``);
* :mod:`noiseclf.integrations.spark` — clean a Spark DataFrame's text column,
  the model loaded once per executor (``pip install 'noiseclf[spark]'``).

Each module imports its framework only when used.
"""
