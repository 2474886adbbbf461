"""The document engine: section input (Markdown, .docx) into blocks, and the Decree 30/2020
report renderer. Import the modules directly (``reportflow.document.writing.render``, ...): this
package does not import them, so that using the plain ``blocks`` stays cheap."""
